use super::*;

#[test]
fn losing_one_manager_of_three_is_allowed() {
    assert_eq!(check_manager_change(3, 2), Ok(()));
    assert_eq!(check_manager_change(2, 1), Ok(()));
    assert_eq!(check_manager_change(5, 3), Ok(()));
    assert_eq!(check_manager_change(1, 3), Ok(()));
    assert_eq!(check_manager_change(3, 3), Ok(()));
}

#[test]
fn three_to_one_in_one_step_is_refused_with_the_steps() {
    let err = check_manager_change(3, 1).unwrap_err();
    assert_eq!(
        err,
        SwarmError::QuorumLoss {
            from: 3,
            to: 1,
            steps: "3 -> 2 -> 1".into()
        }
    );
    assert!(err.to_string().contains("3 -> 2 -> 1"), "{err}");
    let err = check_manager_change(7, 1).unwrap_err();
    assert!(err.to_string().contains("7 -> 4 -> 3 -> 2 -> 1"), "{err}");
}

#[test]
fn join_tokens_never_print() {
    let tokens = JoinTokens {
        worker: "SWMTKN-1-secret-worker".into(),
        manager: "SWMTKN-1-secret-manager".into(),
    };
    assert_eq!(format!("{tokens:?}"), "JoinTokens(..)");
}
